"""Each endpoint of the API, described once as a flow (see ``client.request``)."""
