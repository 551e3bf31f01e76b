"""An embedded, faithful emulator of the Vibe Platform (placeholder)."""
