"""The hub: where environments are published, installed with pip, verified and ranked.

`rlhub.hub.schema` holds the wire models shared by both sides, `rlhub.hub.client` talks to a hub
over HTTP, and `rlhub.hub.server` is the FastAPI application behind `rlhub serve`.
"""
