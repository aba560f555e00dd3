"""LoRa reception (placeholder, filled below)."""
