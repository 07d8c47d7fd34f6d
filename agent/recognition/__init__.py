"""Recognition: which association earns what for each customer, solution area and metric, and
why it does not count for us. The rulebook and SKU table ship as data with their schemas;
``credit.evaluate`` is the pure evaluator. Import from the module that defines a name: the audit
context reads the rulebook, and this package's own import must not pull in the evaluator.
"""
