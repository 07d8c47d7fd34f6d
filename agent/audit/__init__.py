"""The audit: rules as pure functions over a snapshot (``rules``), a pure lifecycle decision
(``lifecycle``), and the engine that keeps findings (``engine``). Import from the module that
defines a name: this package's own import would otherwise pull every rule into whatever reads a
snapshot."""
