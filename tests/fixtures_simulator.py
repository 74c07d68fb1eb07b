"""Fixtures that run the simulator on a free loopback port for the console's tests."""
