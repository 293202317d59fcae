"""The program layer: turns the validated stack config into each component's Args.

Components depend only on their Args; this package is the one place that reads ``StackConfig``
for them, and ``__main__.py`` composes the components from what it returns.
"""
