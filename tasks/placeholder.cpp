// Placeholder so the library has a source until the first task lands; delete then.
