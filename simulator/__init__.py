"""A local stand-in for Alibaba Cloud's Voice Messaging Service gateway (Dyvmsapi 2017-05-25).

It speaks the RPC protocol (V1 and V3 signatures), keeps a provider account (templates, voice files,
numbers), plays calls out in scaled time and pushes receipts to the console. It does not need Django:

    config = SimulatorConfig(access_key_id="...", access_key_secret="...")
    server = start_server(Simulator(config), host="127.0.0.1", port=8001)
"""
from .app import Simulator
from .config import SimulatorConfig
from .server import start_server

__all__ = ["Simulator", "SimulatorConfig", "start_server"]
