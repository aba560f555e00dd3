"""One module per `cosim` command group; each exposes `register(subparsers)`."""
