"""Great Expectations suites for the raw tables and the marts (declared in `suites.py`)."""
