package bot

// RetryIn is retryIn, for the outbox tests outside the package.
var RetryIn = retryIn
