// The kubes-monitor executable, inside kubes (one binary for users).
//
// How: CMake builds runtime/monitor first and assembles this file with
// KUBES_MONITOR_PATH set to the built program; `.incbin` copies that file's bytes
// here, into read-only data between the two symbols. embedded_monitor.h hands them to
// Runtime::Open, which writes them to <run_dir>/kubes-monitor and runs monitors from
// there. (An assembler file rather than C++: the compiler cache would not see a
// change of the included file.)
        .section .rodata.kubes_monitor, "a"
        .balign 16
        .globl kubes_monitor_start
        .hidden kubes_monitor_start
kubes_monitor_start:
        .incbin KUBES_MONITOR_PATH
        .globl kubes_monitor_end
        .hidden kubes_monitor_end
kubes_monitor_end:

// Not an executable stack (the linker would otherwise assume one is needed).
        .section .note.GNU-stack, "", @progbits
