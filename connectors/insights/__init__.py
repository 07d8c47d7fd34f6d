"""Partner Center insights: who Microsoft credits (DPOR, CPOR, PAL, CSP ...) per customer workload.

No REST endpoint returns DPOR or CPOR as such; the insight reports do. Two ways in, one parser:
``api`` runs the programmatic insights API (app+user token) and downloads each report's CSV;
``folder`` reads CSV files of the same reports dropped in a folder. Either reads its CSVs with
``rows`` (the columns accepted: ``columns``) and merges them with ``merge``. Nothing is
re-exported here.
"""
