"""The churn example: a sample generator and the join of its four raw sources.

Everything here is specific to the example's tables. The framework reaches it only through
contract.yaml (`aggregate: example.aggregate`); `make adopt` and `make remove-example` delete
this package together with tests/example/ when a project moves to its own data.
"""
