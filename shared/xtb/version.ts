// The version of this parser, stored with every result it read (provenance.parser_version).
// Raise it when the parser reads a file differently, so stored results say which reading they had.
export const PARSER_VERSION = 'quantum-forge shared/xtb 2 (2026-12-02)';
