"""Example projects shipped with lightkeeper (``lightkeeper demo`` copies one)."""
