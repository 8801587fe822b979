return require("awspromise.core").signer
