"""Fengqiao (枫桥): grassroots petition and conflict-resolution work."""

import os

os.environ.setdefault("PICCOLO_CONF", "app.piccolo_conf")
