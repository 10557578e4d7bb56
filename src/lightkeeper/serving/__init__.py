"""Online serving: the model server of a deployment."""
