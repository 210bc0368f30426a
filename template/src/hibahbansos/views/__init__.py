"""HTTP views, one module per area; each parses input, calls domain code and renders."""
