package gossip

import "sync"

// Tracker folds the event stream into one alive/suspect/dead view per
// stable member ID (Meta.ID), across incarnations: a worker that restarts
// joins under a new node name before its old name is declared dead, and
// that late death must not mark the worker dead. An ID is alive while some
// incarnation of it is in the pool and not suspected, suspect while every
// incarnation in the pool is suspected, dead when none is left. Use
// Tracker.OnEvent as Config.OnEvent. Notify is called on every transition
// of an ID to alive or dead (and on every join, which is harmless to
// repeat), Suspect on every transition to suspect; never concurrently.
// Events of other kinds are ignored.
type Tracker struct {
	// Notify receives (id, role, alive).
	Notify func(id string, role Role, alive bool)
	// Suspect, if set, receives (id, role) when an alive ID becomes
	// suspect.
	Suspect func(id string, role Role)

	mu    sync.Mutex
	names map[string]string          // node name → ID
	alive map[string]map[string]bool // ID → node names in the pool → suspected
}

// NewTracker returns a tracker calling notify.
func NewTracker(notify func(id string, role Role, alive bool)) *Tracker {
	return &Tracker{Notify: notify, names: map[string]string{}, alive: map[string]map[string]bool{}}
}

// view is an ID's state in a Tracker.
type view uint8

const (
	viewDead view = iota
	viewSuspect
	viewAlive
)

// viewOf returns the view of an ID whose incarnations in the pool are set.
func viewOf(set map[string]bool) view {
	if len(set) == 0 {
		return viewDead
	}
	for _, suspected := range set {
		if !suspected {
			return viewAlive
		}
	}
	return viewSuspect
}

// OnEvent takes one event.
func (t *Tracker) OnEvent(e Event) {
	m := e.Member
	t.mu.Lock()
	id, known := t.names[m.Name]
	if m.MetaErr == nil && m.Meta.ID != "" {
		id = m.Meta.ID
	} else if !known {
		t.mu.Unlock()
		return // a member without our metadata
	}
	set := t.alive[id]
	was := viewOf(set)
	_, had := set[m.Name]
	switch e.Kind {
	case EventJoin, EventUpdate:
		t.names[m.Name] = id
		if set == nil {
			set = map[string]bool{}
			t.alive[id] = set
		}
		set[m.Name] = false
	case EventSuspect, EventAlive:
		if !had {
			t.mu.Unlock()
			return // not in the pool: nothing to suspect or clear
		}
		set[m.Name] = e.Kind == EventSuspect
	case EventLeave, EventDead:
		delete(t.names, m.Name)
		delete(set, m.Name)
		if len(set) == 0 {
			delete(t.alive, id)
		}
	default:
		t.mu.Unlock()
		return
	}
	now := viewOf(set)
	t.mu.Unlock()
	switch {
	case now == viewAlive && (e.Kind == EventJoin || !had || was != viewAlive):
		if t.Notify != nil {
			t.Notify(id, m.Meta.Role, true)
		}
	case now == viewSuspect && was == viewAlive:
		if t.Suspect != nil {
			t.Suspect(id, m.Meta.Role)
		}
	case now == viewDead && e.Kind != EventSuspect:
		if t.Notify != nil {
			t.Notify(id, m.Meta.Role, false)
		}
	}
}

// Alive reports whether some incarnation of id is in the pool, suspected
// or not.
func (t *Tracker) Alive(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.alive[id]) > 0
}
