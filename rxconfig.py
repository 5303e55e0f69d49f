"""Reflex configuration: everything comes from work_dispatch.settings."""

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from work_dispatch.settings import settings

config = rx.Config(
    app_name="work_dispatch",
    db_url=settings.database_url,
    redis_url=settings.redis_url,
    telemetry_enabled=False,
    frontend_port=settings.port,
    backend_port=settings.port,
    # The frontend swaps "localhost" for the host the page came from: a tablet that opened
    # http://192.168.1.20:3000 opens its websocket there (Reflex's getBackendURL).
    api_url=f"http://localhost:{settings.port}",
    deploy_url=f"http://localhost:{settings.port}",
    cors_allowed_origins=settings.allowed_origins,
    # How long a tab's UI state outlives its last event (the database stays the source of truth).
    redis_token_expiration=round(settings.state_expiry_minutes * 60),
    show_built_with_reflex=False,
    disable_plugins=[SitemapPlugin],
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(appearance="light", accent_color="indigo", gray_color="slate", radius="medium")
        )
    ],
)
