"""The script sandbox: runtimes an admin defines, runs in throwaway locked-down containers, the line they wait in."""
