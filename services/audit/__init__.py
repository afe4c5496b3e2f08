"""Accountability: the audit trail, justification of reads, security events and limits."""
