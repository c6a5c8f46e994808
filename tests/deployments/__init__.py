"""Deployment tests: the fault matrix over every driver and replicated cluster."""
