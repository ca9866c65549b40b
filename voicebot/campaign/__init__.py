"""Outbound campaigns: contacts, do-not-call, calling windows, retries, the dialer, reports."""
