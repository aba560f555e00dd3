"""What a codec infers: classification and detection behind one `Task` interface (`cosim.tasks.base`)."""
