"""Coalition Assistant: grounded, paragraph-cited answers over Global Coalition for Social Justice documents."""

__version__ = "0.1.0"
