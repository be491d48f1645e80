// Placeholder so the library has a source until the first results unit lands; delete then.
