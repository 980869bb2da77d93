"""HTTP routers: thin translations between the API schemas and the engines."""
