"""One module per `slim-resnet` command: add_arguments(parser), run(args)."""
