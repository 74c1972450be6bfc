"""The domain: one module per aggregate, each with its events and rules."""
