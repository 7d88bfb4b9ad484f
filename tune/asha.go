package tune

import (
	"fmt"
	"slices"
)

// Rungs returns the epochs of the rungs of asynchronous successive
// halving (ASHA): minEpochs·eta^k for every k where that is below
// maxEpochs, then maxEpochs. With minEpochs 6, eta 3 and maxEpochs 150:
// 6, 18, 54, 150.
func Rungs(minEpochs, maxEpochs, eta int) ([]int, error) {
	switch {
	case eta < 2:
		return nil, fmt.Errorf("tune: eta %d: want >= 2", eta)
	case minEpochs < 1:
		return nil, fmt.Errorf("tune: min epochs %d: want >= 1", minEpochs)
	case maxEpochs < minEpochs:
		return nil, fmt.Errorf("tune: max epochs %d: want >= min epochs (%d)", maxEpochs, minEpochs)
	}
	var rs []int
	for r := minEpochs; r < maxEpochs; r *= eta {
		rs = append(rs, r)
	}
	return append(rs, maxEpochs), nil
}

// promotion returns the trial that ASHA promotes next, or nil when none
// can be: from the highest rung down, a stopped trial of that rung among
// the best 1/eta of the trials that completed it (Li et al. 2020, "A
// System for Massively Parallel Hyperparameter Tuning", algorithm 2).
// Trials that completed a rung and then went on, ended or failed still
// count toward its size and ranks.
func (s *Study) promotion() *Trial {
	rungs, eta := s.Settings.Rungs, s.Settings.Eta
	for k := len(rungs) - 2; k >= 0; k-- {
		var at []*Trial
		for _, t := range s.Trials {
			if len(t.Rungs) > k {
				at = append(at, t)
			}
		}
		n := len(at) / eta
		if n == 0 {
			continue
		}
		slices.SortStableFunc(at, func(a, b *Trial) int {
			switch {
			case s.Settings.better(a.Rungs[k].Score, b.Rungs[k].Score):
				return -1
			case s.Settings.better(b.Rungs[k].Score, a.Rungs[k].Score):
				return 1
			}
			return 0
		})
		for _, t := range at[:n] {
			if t.State == Stopped && t.Rung == k {
				return t
			}
		}
	}
	return nil
}
