"""The Hibah & Bansos kit: region profiles, rendering, updates and deploys for the fleet."""

__version__ = "0.1.0"
