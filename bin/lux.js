#!/usr/bin/env node
// The `lux` command: runs the compiled CLI.
import '../dist/src/cli/main.js';
