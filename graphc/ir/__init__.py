"""The IR: the graph of named nodes, its symbolic local derivatives, and its printing
as expressions and as .gc text. Built on the op table; knows no front end or backend."""
