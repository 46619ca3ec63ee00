"""The run report: a results folder drawn as one offline HTML page (and PNG plots)."""
