"""Doorstroom warehouse: curated tables of written question 221 (2024), loaded into PostgreSQL."""

__version__ = "0.1.0"
