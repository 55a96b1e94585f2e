"""Where the easy-Japanese catalog lives (read by the app and by its tests)."""

from pathlib import Path

CATALOG = Path(__file__).with_name("yasashii.po")
