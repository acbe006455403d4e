"""Server-rendered pages of data-access governance shared by the citizen, portal and console."""
