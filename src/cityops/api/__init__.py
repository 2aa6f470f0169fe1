"""The HTTP layer: FastAPI app mounting the kernel's and each domain's routers."""
