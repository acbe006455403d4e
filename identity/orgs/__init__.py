"""Organizations (identified by their tax code) and the people who act for them."""
