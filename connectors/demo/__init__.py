"""Demo ministries: synthetic SOAP and REST services for `lgsp demo` and the tests."""
