from fieldcollect.ops.cli import app

app()
