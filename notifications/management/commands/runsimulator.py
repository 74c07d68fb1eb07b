"""Serve the provider simulator (a stand-in for Alibaba Cloud VMS) on a local port."""
from django.conf import settings
from django.core.management.base import BaseCommand

import simulator


class Command(BaseCommand):
    help = "Run the Alibaba Cloud VMS simulator (RPC gateway, receipts, reviews) until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)

    def handle(self, *args, host: str, port: int, **options):
        config = simulator.SimulatorConfig.from_env(
            access_key_id=settings.ALIYUN_ACCESS_KEY_ID or "", access_key_secret=settings.ALIYUN_ACCESS_KEY_SECRET or "",
            receipt_token=settings.RECEIPT_WEBHOOK_TOKEN or "",
        )
        app = simulator.Simulator(config)
        self.stdout.write(f"VMS simulator on http://{host}:{port}/ (time scale {config.time_scale}); Ctrl-C stops it.")
        try:
            simulator.start_server(app, host=host, port=port, background=False)
        except KeyboardInterrupt:
            pass
        finally:
            app.engine.stop()
