"""The PSA ticket sinks (ConnectWise PSA, Autotask, HaloPSA) against local stand-ins of their
REST APIs, written from each vendor's public API documentation."""
