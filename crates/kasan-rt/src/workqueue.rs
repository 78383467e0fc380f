//! Linux's workqueues for C programs (`alloc_workqueue`, `queue_work`,
//! `flush_workqueue`, `destroy_workqueue`, `schedule_work`), with KASAN's aux stack:
//! `queue_work` records its caller's stack on the work item, so a use-after-free of
//! it shows "Last potentially related work creation" with the `queue_work` (Linux's
//! `insert_work` does `kasan_record_aux_stack`).
//!
//! Each workqueue has one runtime thread (`kworker/u:<n>`) running its items in
//! queue order (Linux's ordered workqueues; `max_active` is accepted and ignored).
//! The runtime reads an item's function and link before calling it and never touches
//! it afterwards: a work function may free its own item (Linux's `workqueue_uaf`).
//! `struct work_struct` (include/kasan.h) keeps Linux's first field, `data`, whose bit
//! 0 is the pending bit, so `queue_work` of a pending item returns false. A
//! `struct workqueue_struct *` is a runtime object checked on every call: NULL or a
//! destroyed queue is reported as the read Linux's code would make of it, anything
//! else gets one warning line. A forked child starts its queues' threads again.
#![allow(unsafe_code)]

use core::cell::Cell;
use core::ffi::{c_char, c_void, CStr};
use core::ptr;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};

use kasan_hosted::task::frame_pointer;

use crate::runtime::{self, ensure_init, format_into};

/// `struct work_struct`.
#[repr(C)]
#[allow(missing_debug_implementations)]
pub struct Work {
    data: AtomicUsize,
    next: *mut Work,
    func: Option<unsafe extern "C" fn(*mut Work)>,
}

const PENDING: usize = 1;
const WQ_MAGIC: u64 = 0x776f_726b_7175_6575; // "workqueu"

struct Items {
    head: *mut Work,
    tail: *mut Work,
    queued: u64,
    done: u64,
    /// The process whose thread serves the queue (0: none).
    pid: usize,
    stop: bool,
}

/// What a `struct workqueue_struct *` points at.
#[allow(missing_debug_implementations)]
pub struct WorkQueue {
    magic: u64,
    name: [u8; 32],
    items: Mutex<Items>,
    wake: Condvar,
    idle: Condvar,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

// SAFETY: the raw item pointers are only touched under `items`' mutex, or by the
// worker after it took them off the list.
unsafe impl Send for WorkQueue {}
// SAFETY: as above.
unsafe impl Sync for WorkQueue {}

/// Numbers the worker threads' names.
static WORKERS: AtomicU32 = AtomicU32::new(0);

std::thread_local! {
    /// The queue whose worker this thread is (0: none).
    static WORKER_OF: Cell<usize> = const { Cell::new(0) };
}

fn warn(args: core::fmt::Arguments<'_>) {
    let mut buf = [0u8; 240];
    kasan_hosted::output::write_message::<1024>(format_into(&mut buf, args));
}

fn pid() -> usize {
    // SAFETY: getpid has no preconditions.
    unsafe { libc::getpid() as usize }
}

/// Validates a queue handle for `what`, as Linux reads `wq->...` first.
fn queue_of(wq: *const c_void, what: &str, fp: usize) -> Option<&'static WorkQueue> {
    let at = wq as usize;
    if !runtime::check(at, 8, false, fp) || at == 0 {
        return None;
    }
    let live = crate::with_heap!(h => h.usable_size(at)) == Some(core::mem::size_of::<WorkQueue>());
    // SAFETY: a live heap object exactly the size of a queue.
    let q = live.then(|| unsafe { &*(at as *const WorkQueue) });
    match q {
        Some(q) if q.magic == WQ_MAGIC => Some(q),
        _ => {
            warn(format_args!(
                "kasan: {what}({wq:p}): not a workqueue, ignored\n"
            ));
            None
        }
    }
}

/// Starts the queue's worker in this process if it has none (items lock held).
fn ensure_worker(q: &'static WorkQueue, items: &mut Items) {
    let me = pid();
    if items.pid == me {
        return;
    }
    if items.pid != 0 {
        // A forked child: the parent's worker is gone with the item it was running.
        let mut waiting = 0;
        let mut at = items.head;
        while !at.is_null() {
            waiting += 1;
            // SAFETY: a queued item, valid until its function runs.
            at = unsafe { (*at).next };
        }
        items.done = items.queued - waiting;
    }
    let n = WORKERS.fetch_add(1, Ordering::Relaxed);
    let addr = q as *const WorkQueue as usize;
    match std::thread::Builder::new()
        .name(format!("kworker/u:{n}"))
        .spawn(move || worker(addr))
    {
        Ok(handle) => {
            items.pid = me;
            *q.thread.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
        }
        Err(_) => warn(format_args!(
            "kasan: workqueue {}: cannot start its worker thread; items run at flush\n",
            name_of(q)
        )),
    }
}

fn name_of(q: &WorkQueue) -> &str {
    let len = q.name.iter().position(|&b| b == 0).unwrap_or(q.name.len());
    core::str::from_utf8(&q.name[..len]).unwrap_or("?")
}

fn worker(addr: usize) {
    WORKER_OF.with(|w| w.set(addr));
    // SAFETY: the queue outlives its worker: destroy joins it before freeing.
    let q = unsafe { &*(addr as *const WorkQueue) };
    loop {
        let item = {
            let mut items = q.items.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if !items.head.is_null() {
                    break;
                }
                if items.stop {
                    return;
                }
                items = q.wake.wait(items).unwrap_or_else(|e| e.into_inner());
            }
            let item = items.head;
            // SAFETY: a queued item, valid until its function runs.
            items.head = unsafe { (*item).next };
            if items.head.is_null() {
                items.tail = ptr::null_mut();
            }
            item
        };
        run_item(item);
        let mut items = q.items.lock().unwrap_or_else(|e| e.into_inner());
        items.done += 1;
        q.idle.notify_all();
    }
}

/// Runs one item taken off its queue: clears pending, then calls the function (the
/// last access the runtime makes to the item).
fn run_item(item: *mut Work) {
    // SAFETY: a queued item, valid until its function runs.
    let func = unsafe {
        // Release pairs with the AcqRel fetch_or in queue_work: the item may be
        // queued again from now on.
        (*item).data.fetch_and(!PENDING, Ordering::Release);
        (*item).func
    };
    if let Some(f) = func {
        // SAFETY: the program's work function, called as Linux calls it.
        unsafe { f(item) };
    }
}

/// `struct workqueue_struct *alloc_workqueue(const char *fmt, unsigned int flags,
/// int max_active, ...)`: `fmt` is the name as it is (no formatting); NULL on
/// failure.
///
/// # Safety
///
/// `fmt` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn alloc_workqueue(
    fmt: *const c_char,
    _flags: u32,
    _max_active: i32,
) -> *mut c_void {
    ensure_init();
    let mut name = [0u8; 32];
    if !fmt.is_null() {
        // SAFETY: the caller passes a NUL-terminated name.
        let s = unsafe { CStr::from_ptr(fmt) }.to_bytes();
        let n = s.len().min(name.len() - 1);
        name[..n].copy_from_slice(&s[..n]);
    }
    // A heap object of its own (kmalloc), so a destroyed queue's handle is a
    // use-after-free when used, as in Linux.
    let at = crate::alloc_api::alloc(
        core::mem::size_of::<WorkQueue>(),
        core::mem::align_of::<WorkQueue>(),
        true,
        frame_pointer(),
    )
    .cast::<WorkQueue>();
    if at.is_null() {
        return ptr::null_mut();
    }
    let q = WorkQueue {
        magic: WQ_MAGIC,
        name,
        items: Mutex::new(Items {
            head: ptr::null_mut(),
            tail: ptr::null_mut(),
            queued: 0,
            done: 0,
            pid: 0,
            stop: false,
        }),
        wake: Condvar::new(),
        idle: Condvar::new(),
        thread: Mutex::new(None),
    };
    // SAFETY: fresh, aligned memory for one queue.
    unsafe { ptr::write(at, q) };
    at.cast()
}

/// `bool queue_work(struct workqueue_struct *wq, struct work_struct *work)`: false
/// if the item is pending already (or the arguments are bad).
#[unsafe(no_mangle)]
pub extern "C" fn queue_work(wq: *mut c_void, work: *mut Work) -> bool {
    let fp = frame_pointer();
    ensure_init();
    let Some(q) = queue_of(wq, "queue_work", fp) else {
        return false;
    };
    if !claim(work, fp) {
        return false;
    }
    runtime::record_aux(work as usize, fp);
    queue_on(q, work);
    true
}

/// Checks the item and sets its pending bit; false (nothing to queue) if it is bad
/// or pending already.
fn claim(work: *mut Work, fp: usize) -> bool {
    if work.is_null() {
        warn(format_args!("kasan: queue_work: NULL work, ignored\n"));
        return false;
    }
    // The item is written by the queue: checked as Linux's instrumented code writes it.
    if !runtime::check(work as usize, core::mem::size_of::<Work>(), true, fp) {
        return false;
    }
    // AcqRel pairs with the Release fetch_and in run_item.
    // SAFETY: checked above: a valid item of the program's.
    (unsafe { (*work).data.fetch_or(PENDING, Ordering::AcqRel) } & PENDING) == 0
}

/// Appends a claimed item to `q` and wakes its worker.
fn queue_on(q: &'static WorkQueue, work: *mut Work) {
    let mut items = q.items.lock().unwrap_or_else(|e| e.into_inner());
    ensure_worker(q, &mut items);
    // SAFETY: the item is ours until its function runs.
    unsafe { (*work).next = ptr::null_mut() };
    if items.tail.is_null() {
        items.head = work;
    } else {
        // SAFETY: the tail is a queued item, valid until its function runs.
        unsafe { (*items.tail).next = work };
    }
    items.tail = work;
    items.queued += 1;
    drop(items);
    q.wake.notify_one();
}

/// Waits until every item queued on `q` before the call has run. From the queue's
/// own worker it would wait for itself: one warning line.
fn flush(q: &'static WorkQueue, what: &str) {
    if WORKER_OF.with(|w| w.get()) == q as *const WorkQueue as usize {
        warn(format_args!(
            "kasan: {what} from a work item of the same queue would wait for itself, returned at once\n"
        ));
        return;
    }
    let mut items = q.items.lock().unwrap_or_else(|e| e.into_inner());
    if items.pid != pid() {
        // No worker in this process: run the items here.
        while !items.head.is_null() {
            let item = items.head;
            // SAFETY: a queued item, valid until its function runs.
            items.head = unsafe { (*item).next };
            if items.head.is_null() {
                items.tail = ptr::null_mut();
            }
            drop(items);
            run_item(item);
            items = q.items.lock().unwrap_or_else(|e| e.into_inner());
            items.done += 1;
        }
        return;
    }
    let target = items.queued;
    while items.done < target {
        items = q.idle.wait(items).unwrap_or_else(|e| e.into_inner());
    }
}

/// `void flush_workqueue(struct workqueue_struct *wq)`.
#[unsafe(no_mangle)]
pub extern "C" fn flush_workqueue(wq: *mut c_void) {
    let fp = frame_pointer();
    ensure_init();
    if let Some(q) = queue_of(wq, "flush_workqueue", fp) {
        flush(q, "flush_workqueue");
    }
}

/// `void destroy_workqueue(struct workqueue_struct *wq)`: runs what is queued,
/// stops the worker and frees the queue (a later use is a use-after-free).
#[unsafe(no_mangle)]
pub extern "C" fn destroy_workqueue(wq: *mut c_void) {
    let fp = frame_pointer();
    ensure_init();
    let Some(q) = queue_of(wq, "destroy_workqueue", fp) else {
        return;
    };
    if SYSTEM_WQ.get().is_some_and(|&s| s == wq as usize) {
        warn(format_args!(
            "kasan: destroy_workqueue(system_wq): ignored\n"
        ));
        return;
    }
    flush(q, "destroy_workqueue");
    let handle = {
        let mut items = q.items.lock().unwrap_or_else(|e| e.into_inner());
        items.stop = true;
        let here = items.pid == pid();
        drop(items);
        q.wake.notify_all();
        let h = q.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        h.filter(|_| here)
    };
    if let Some(h) = handle {
        let _ = h.join();
    }
    // SAFETY: made by alloc_workqueue; its worker has exited and nothing refers to
    // it any more: dropped in place, then its memory freed.
    unsafe { ptr::drop_in_place(wq.cast::<WorkQueue>()) };
    crate::alloc_api::free_kind(wq as usize, kasan_slab::FreeKind::Kmalloc, fp);
}

/// The system workqueue behind `schedule_work`.
static SYSTEM_WQ: OnceLock<usize> = OnceLock::new();

fn system_wq() -> &'static WorkQueue {
    let at = *SYSTEM_WQ.get_or_init(|| {
        // SAFETY: a NUL-terminated name.
        unsafe { alloc_workqueue(c"events".as_ptr(), 0, 0) as usize }
    });
    // SAFETY: never destroyed (destroy_workqueue refuses it).
    unsafe { &*(at as *const WorkQueue) }
}

/// `bool schedule_work(struct work_struct *work)`: `queue_work(system_wq, work)`.
#[unsafe(no_mangle)]
pub extern "C" fn schedule_work(work: *mut Work) -> bool {
    let fp = frame_pointer();
    ensure_init();
    if !claim(work, fp) {
        return false;
    }
    runtime::record_aux(work as usize, fp);
    queue_on(system_wq(), work);
    true
}

/// `void flush_scheduled_work(void)`: flushes the system workqueue.
#[unsafe(no_mangle)]
pub extern "C" fn flush_scheduled_work() {
    ensure_init();
    flush(system_wq(), "flush_scheduled_work");
}
