"""The retention service: when the data a JIT collected is reviewed and erased.

``domain`` holds the pure rules (observe/decide/evolve/due); the faust wiring and HTTP router live
beside it and call it.
"""
