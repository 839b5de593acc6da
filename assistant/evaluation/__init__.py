"""Offline evaluation: pure metric functions (one small module per family), runners that apply them to
the assistant's output, and report writers. Nothing here is imported by the serving path.
"""
