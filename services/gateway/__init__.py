"""The gateway: the one HTTP front. Authenticates, authorises, and composes every service's router."""
