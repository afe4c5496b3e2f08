"""Deconfliction: target (blind tokens), fuzzy person, operation and role deconfliction.

``domain`` holds the pure decisions, ``tokens`` the published token recipe, ``fuzzy`` the keyed
name encodings and their measured quality, ``geo`` the H3 spatial index and circle geometry.
"""
