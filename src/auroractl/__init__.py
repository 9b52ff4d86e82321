"""auroractl: a DBA toolkit for Amazon Aurora PostgreSQL (Serverless v2)."""

__version__ = "0.1.0"
