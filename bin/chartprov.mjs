#!/usr/bin/env node
import '../dist/cli-bundle/chartprov.js';
