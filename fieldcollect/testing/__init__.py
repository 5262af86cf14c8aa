"""Test support shared by every app's tests: model factories (:mod:`.factories`) and the pytest plugin
with the real-browser fixture (:mod:`.browser`, registered in the root ``conftest.py``)."""
