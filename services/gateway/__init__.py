"""The gateway: the one HTTP front; authenticates, authorises, composes every service's router."""
